from bdr.cli.main import main

main()

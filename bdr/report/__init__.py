"""The monthly restore-test report: view model, charts, HTML, PDF and JSON."""

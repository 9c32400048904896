"""The only paramiko user: commands over SSH to recovery hosts."""

"""`python -m chat_cli` runs the `chat` command."""

from chat_cli.app import main

main()

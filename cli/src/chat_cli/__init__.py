"""`chat`: a command-line client of the chat backend."""

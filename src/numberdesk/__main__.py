from numberdesk.cli import main

main()

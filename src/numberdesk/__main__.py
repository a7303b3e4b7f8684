from numberdesk.cli.main import main

main()

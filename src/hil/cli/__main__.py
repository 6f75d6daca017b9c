from hil.cli.app import main

main()

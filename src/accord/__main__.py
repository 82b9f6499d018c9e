from accord.core.cli import main

main()

from skewcheck.cli import main

main()

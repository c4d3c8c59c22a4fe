from searchengine.cli import main

main(prog_name="searchengine")

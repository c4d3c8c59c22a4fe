from web.cli import main

main(prog_name="searchengine")

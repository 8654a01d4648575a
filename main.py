"""Android entry point (buildozer runs main.py from source.dir); desktops use `make app`."""

from guide_app.main import main

main()

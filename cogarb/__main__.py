from cogarb.cli import main

raise SystemExit(main())

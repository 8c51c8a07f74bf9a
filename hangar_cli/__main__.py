from hangar_cli.main import main

raise SystemExit(main())

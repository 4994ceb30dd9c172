"""``python -m secureface`` entry point."""

from secureface.cli import main

raise SystemExit(main())

import sys

from nnplug.cli import main

sys.exit(main())

import sys

from inception_calc.cli.main import main

sys.exit(main())

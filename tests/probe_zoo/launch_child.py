"""A launcher that starts the evaluation script in a child interpreter, as torchrun does."""

import subprocess
import sys
from pathlib import Path

child = Path(__file__).resolve().parents[2] / "fixtures" / "probe" / "validate_without_eval.py"
sys.exit(subprocess.call([sys.executable, str(child)]))

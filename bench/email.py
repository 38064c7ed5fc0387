"""E-mail ingestion over SMTP into the real server process (see ``_email_burst.py``, which this runs).

    python bench/email.py [--quick] [--messages 10000] [--clients 8]

Last line: {"bench": "email", "messages_per_s": ..., "lost": ..., "duplicated": ..., ...}.

This file only starts the benchmark: run as a script, its folder comes first on ``sys.path``, where its own name
would hide the standard library's ``email`` package; the folder is moved to the end first.
"""

import runpy
import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if not p or str(Path(p).resolve()) != HERE] + [HERE]
runpy.run_path(str(Path(HERE) / "_email_burst.py"), run_name="__main__")

"""E-mail ingestion over SMTP into the real server process (see ``_email_burst.py``, which this runs).

    python bench/email.py [--quick] [--messages 10000] [--clients 8]

Last line: {"bench": "email", "messages_per_s": ..., "lost": ..., "duplicated": ..., ...}.

This file only starts the benchmark. Its name is the standard library's ``email``: run as a script, its folder
comes first on ``sys.path`` and would hide that package, so the folder is moved to the end first. And when another
script of this folder runs (``python bench/dialer.py``), anything importing ``email`` finds this file: imported
under any name but ``__main__``, it puts the standard library's package in its place and does nothing else.
"""

import importlib.util
import runpy
import sys
import sysconfig
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)

if __name__ == "__main__":
    sys.path[:] = [p for p in sys.path if not p or str(Path(p).resolve()) != HERE] + [HERE]
    runpy.run_path(str(Path(HERE) / "_email_burst.py"), run_name="__main__")
else:
    _package = Path(sysconfig.get_paths()["stdlib"]) / "email"
    _spec = importlib.util.spec_from_file_location(
        __name__, _package / "__init__.py", submodule_search_locations=[str(_package)]
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[__name__] = _module  # the import that found this file returns what sys.modules holds
    _spec.loader.exec_module(_module)

"""The configurations chain_benchmark runs (no heavy imports).

`benchmarks.run_chain` runs one of them in its own process.
"""

from typing import Any, Dict, List, Mapping

__all__ = ['COMPRESSIONS', 'MODES']

# Beam pipeline arguments of each mode.
MODES: Dict[str, List[str]] = {
    # None given: the DirectRunner's default in-memory mode.
    'in_process': [],
    'workers2': ['--direct_running_mode=multi_processing',
                 '--direct_num_workers=2'],
}

# ImageExampleGen options of each output compression.
COMPRESSIONS: Dict[str, Mapping[str, Any]] = {
    'gzip': {'compression': 'gzip'},
    'none': {'compression': 'none'},  # ImageExampleGen's default.
}

"""GTP v2 engine (`tengen gtp`): the protocol loop and its command handlers.

Modules: `engine` (the loop: reading lines, ids, dispatch, `=`/`?` answers), `lines` (the line
reader and the spec's input cleaning), `args` (typed conversion of command arguments), `answers`
(failure and streamed-answer types), `session` (the game being played and the start-up config),
and one module per handler group: `core_commands` (protocol, board, moves, scoring), `handicap`,
`time_commands`, `sgf_commands` (loadsgf/printsgf and game records), `analysis_commands`
(lz-/kata-analyze threads). The names callers use are listed in __all__.
"""

from engine.gtp.engine import GtpEngine
from engine.gtp.lines import FdLineReader, clean_line
from engine.gtp.session import GtpConfig

__all__ = ["FdLineReader", "GtpConfig", "GtpEngine", "clean_line"]

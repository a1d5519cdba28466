"""GTP's time commands: time_settings, kgs-time_settings and time_left, over the session's GameClock."""

from __future__ import annotations

from engine.clock import TimeSettings
from engine.gtp.answers import GtpFailure
from engine.gtp.args import GtpArgs, syntax_error
from engine.gtp.session import GtpSession

MAX_SECONDS = 1e8
MAX_STONES = 10**5


class TimeCommands:
    """Sets and corrects the clocks the player plans its moves by."""

    def __init__(self, session: GtpSession) -> None:
        self.session = session

    def cmd_time_settings(self, args: GtpArgs) -> str:
        args.expect(3)
        main, period = args.number(0, 0, MAX_SECONDS), args.number(1, 0, MAX_SECONDS)
        stones = args.integer(2, 0, MAX_STONES)
        try:
            settings = TimeSettings.from_gtp(main, period, stones)
        except ValueError as exc:
            raise syntax_error() from exc
        self.session.clock.set(settings)
        return ""

    def cmd_kgs_dash_time_settings(self, args: GtpArgs) -> str:
        if not args:
            raise syntax_error()
        kind = args[0].lower()
        try:
            if kind == "none" and len(args) == 1:
                settings = TimeSettings(system="none")
            elif kind == "absolute" and len(args) == 2:
                settings = TimeSettings(system="absolute", main=args.number(1, 0, MAX_SECONDS))
            elif kind == "byoyomi" and len(args) == 4:
                settings = TimeSettings(system="byoyomi", main=args.number(1, 0, MAX_SECONDS),
                                        period=args.number(2, 0, MAX_SECONDS),
                                        periods=args.integer(3, 0, MAX_STONES))
            elif kind == "canadian" and len(args) == 4:
                settings = TimeSettings(system="canadian", main=args.number(1, 0, MAX_SECONDS),
                                        period=args.number(2, 0, MAX_SECONDS),
                                        stones=args.integer(3, 1, MAX_STONES))
            else:
                raise syntax_error()
        except GtpFailure:
            raise
        except ValueError as exc:
            raise syntax_error() from exc
        self.session.clock.set(settings)
        return ""

    def cmd_time_left(self, args: GtpArgs) -> str:
        args.expect(3)
        color = args.color(0)
        seconds, stones = args.number(1, -MAX_SECONDS, MAX_SECONDS), args.integer(2, 0, MAX_STONES)
        self.session.clock.time_left(color, seconds, stones)
        return ""

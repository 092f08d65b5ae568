"""Apache Common Log Format (LogFormat "%h %l %u %t \"%r\" %>s %b" common):
the combined format without referer and user agent."""

from __future__ import annotations

from generators import baddata as bad
from generators.apache import CORRUPTIONS, ApacheCombined


class ApacheCommon(ApacheCombined):
    name = "apache_common"
    summary = "Apache common log format (CLF)"
    template = '{ip} {ident} {user} [{time}] "{method} {target} {protocol}" {status} {size}'
    # The line ends in a bare number: a cut inside it would still parse.
    corruptions = CORRUPTIONS | {"truncated": bad.truncated_before_last}

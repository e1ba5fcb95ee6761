"""Django's en-GB formats (the pages' language), but a moment in the 24-hour clock, as the pages
that format their own already write it: "7 Dec 2026, 23:16", not "7 Dec 2026, 11:16 p.m."
(GOV.UK style has no "p.m."). Everything else is Django's en-GB (dates "7 Dec 2026")."""

DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "j M Y, H:i"

# Kyrgyz writes the year first and keeps the month in the nominative, in lower case:
# "2026-ж., 6-декабрь". Django's "j E Y ж." gives "6 Декабрь 2026 ж." (issue 16). There is no
# lower-case month letter, so E ("alt. month") is translated to the lower-case nominative in
# refuge/locale/ky; Django uses E only in dates, while F (capitalised) is left alone.
# Everything not set here comes from Django's ky formats.
DATE_FORMAT = "Y-ж., j-E"
DATETIME_FORMAT = "Y-ж., j-E, G:i"
YEAR_MONTH_FORMAT = "Y-ж., E"
MONTH_DAY_FORMAT = "j-E"

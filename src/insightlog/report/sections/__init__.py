"""The sections of one service's governance report, a module each, numbered as on the page:
1 ``governance``, 2 ``drift``, 3 ``recognition``, 4 ``reviews``, 5 ``triggers``, 6 ``evidence``,
7 ``integrity``; ``common`` holds what they share. ``insightlog.report.service_page`` puts them
together into the page.
"""

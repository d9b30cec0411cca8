"""The interface's shared pieces, below every area: page decorators, form and upload
helpers, the spreadsheet writers with their export guard, template tags, the base
template and static files, and the API's authentication, paging and error schemas.

Areas import from here; nothing here imports an area's views, pages or routers. The
pages that span areas (dashboard, navigation) and the commands that start the whole
platform live above every area, in ``evdms.web``.
"""

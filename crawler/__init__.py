"""The Scrapy project: settings, items, middlewares, pipelines, the pacsto spider, runs, and running a crawl."""

START_URL = "https://pacsto.org/events"  # where a crawl starts when it is given no start URL (START_URLS)
CALENDAR_EARLIEST = "2013-07"  # the site's first news: the month calendar is never followed before it

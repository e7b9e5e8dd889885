pytest_plugins = ["store_fixtures", "fake_fixtures", "web_fixtures"]

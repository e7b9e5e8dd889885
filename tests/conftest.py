pytest_plugins = ["store_fixtures"]

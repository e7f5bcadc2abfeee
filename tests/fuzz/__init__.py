"""Coverage-guided fuzz targets (atheris), run by ``make fuzz`` and briefly by the tests."""

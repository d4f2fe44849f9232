# The CDK's standard tests get their scenarios (from acceptance-test-config.yml) through these hooks.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]

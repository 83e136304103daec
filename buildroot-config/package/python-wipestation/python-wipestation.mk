################################################################################
#
# python-wipestation
#
################################################################################

# Built from the repository this external tree lives in (../ of it).
# Keep the version equal to [project] version in pyproject.toml.
PYTHON_WIPESTATION_VERSION = 0.1.0
PYTHON_WIPESTATION_SITE = $(BR2_EXTERNAL_WIPESTATION_PATH)/..
PYTHON_WIPESTATION_SITE_METHOD = local
PYTHON_WIPESTATION_SETUP_TYPE = setuptools
PYTHON_WIPESTATION_LICENSE = GPL-3.0+
# Copy only what the wheel build needs: pyproject.toml, README.md, app/
# (not .venv, build/ with this very output, images, tests, ...).
PYTHON_WIPESTATION_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude=__pycache__ --exclude=*.egg-info \
	--include=/app/*** --include=/pyproject.toml --include=/README.md \
	--include=/LICENSE* --exclude=*

$(eval $(python-package))

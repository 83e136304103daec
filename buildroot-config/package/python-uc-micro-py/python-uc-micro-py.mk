################################################################################
#
# python-uc-micro-py
#
################################################################################

PYTHON_UC_MICRO_PY_VERSION = 2.0.0
PYTHON_UC_MICRO_PY_SOURCE = uc_micro_py-$(PYTHON_UC_MICRO_PY_VERSION).tar.gz
PYTHON_UC_MICRO_PY_SITE = https://files.pythonhosted.org/packages/78/67/9a363818028526e2d4579334460df777115bdec1bb77c08f9db88f6389f2
PYTHON_UC_MICRO_PY_SETUP_TYPE = setuptools
PYTHON_UC_MICRO_PY_LICENSE = MIT
PYTHON_UC_MICRO_PY_LICENSE_FILES = LICENSE

$(eval $(python-package))

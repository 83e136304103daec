################################################################################
#
# python-reportlab
#
################################################################################

PYTHON_REPORTLAB_VERSION = 5.1.0
PYTHON_REPORTLAB_SOURCE = reportlab-$(PYTHON_REPORTLAB_VERSION).tar.gz
PYTHON_REPORTLAB_SITE = https://files.pythonhosted.org/packages/89/22/c18474be40b9bbb52fdb7051177d4d25f1ea59fada17eb181026411e93b1
PYTHON_REPORTLAB_SETUP_TYPE = setuptools
PYTHON_REPORTLAB_LICENSE = BSD-3-Clause
PYTHON_REPORTLAB_LICENSE_FILES = LICENSE

# setup.py downloads the Type 1 font curves from reportlab.com unless
# --no-download-t1-files is in its argv, which the pep517 backend does
# not pass for every hook. A build must not reach the network, so turn
# the download off in setup.py itself (and fail if the line moved).
# Only embedding of the Type 1 fonts is lost: the standard 14 fonts
# keep working from the built-in width tables.
define PYTHON_REPORTLAB_NO_T1_DOWNLOAD
	$(SED) 's/^dlt1 = .*/dlt1 = False/' $(@D)/setup.py
	grep -q '^dlt1 = False$$' $(@D)/setup.py
endef
PYTHON_REPORTLAB_POST_PATCH_HOOKS += PYTHON_REPORTLAB_NO_T1_DOWNLOAD

$(eval $(python-package))

include $(sort $(wildcard $(BR2_EXTERNAL_WIPESTATION_PATH)/package/*/*.mk))

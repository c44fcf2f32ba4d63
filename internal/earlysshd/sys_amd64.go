package earlysshd

const sysMemfdCreate = 319

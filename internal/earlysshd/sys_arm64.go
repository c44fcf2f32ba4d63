package earlysshd

const sysMemfdCreate = 279

/*
 * The session image, the master's side (master-internal; master/image.c).
 */
#ifndef SOCKS5D_MASTER_IMAGE_H
#define SOCKS5D_MASTER_IMAGE_H

struct spawn_ctx;

#define IMAGE_NAME "socks5d-session"

/* At start: the image's descriptor (O_PATH), or -1 (none found, or one
 * refused; logged either way). */
int image_open(void);

/* In the child of the master's fork for a forker: exec the image on
 * chan with the descriptors ctx names; exits if the exec fails. */
void image_exec(const struct spawn_ctx *ctx, int chan, int image_fd)
    __attribute__((noreturn));

/* In the master: the IPC_IMAGE_SETUP for that forker, on our end. */
int image_setup_send(const struct spawn_ctx *ctx, int chan);

#endif

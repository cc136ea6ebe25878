/*
 * v4l2.c - a V4L2 camera as an I420 source (include/hotline/devices.h).
 *
 * The device is opened non-blocking (so the caller can poll its fd),
 * asked for YUYV, then NV12, then YUV420 at the wanted size and frame
 * rate, and streamed through 4 mmap'd buffers.  hl_camera_read() dequeues
 * every filled buffer, keeps only the newest (older ones go straight back
 * to the driver: a late reader gets the freshest picture, not a backlog),
 * converts it to I420 and, when the driver chose another size, scales it
 * to the asked one by nearest neighbour.
 *
 * Every failure of hl_camera_open() gives one sentence in *err_msg (a
 * thread-local buffer, valid until the next open from the same thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/videodev2.h>

#include "hotline/devices.h"

#define CAM_BUFFERS 4

struct cam_buf {
	void *start;
	size_t length;
};

struct hl_camera {
	int fd;
	int width, height; /* asked (the caller's pictures) */
	int dev_w, dev_h;  /* what the driver delivers */
	uint32_t pixfmt;   /* V4L2_PIX_FMT_* */
	uint32_t bpl;	   /* bytes per line of the (first) plane */
	struct cam_buf buf[CAM_BUFFERS];
	unsigned nbuf;
	bool streaming;
	struct hl_image *dev_img; /* device size, when scaling is needed */
};

static _Thread_local char cam_msg[512];

static void say(const char **err_msg, const char *fmt, ...) HL_PRINTF(2, 3);

static void say(const char **err_msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cam_msg, sizeof(cam_msg), fmt, ap);
	va_end(ap);
	if (err_msg)
		*err_msg = cam_msg;
}

/* ioctl, retried when a signal interrupts it. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* ---- conversions ----------------------------------------------------- */

/*
 * YUYV (Y0 U Y1 V per two pixels, 4:2:2) to I420: luma copied, chroma of
 * each pair of rows averaged (rounded) to one 4:2:0 row.
 */
void hl_yuyv_to_i420(const uint8_t *yuyv, int stride, struct hl_image *img)
{
	int w = img->width, h = img->height;

	for (int y = 0; y < h; y++) {
		const uint8_t *s = yuyv + (size_t)y * (size_t)stride;
		uint8_t *d = img->plane[0] + (size_t)y * (size_t)img->stride[0];

		for (int x = 0; x < w; x++)
			d[x] = s[2 * x];
	}
	for (int y = 0; y < h / 2; y++) {
		const uint8_t *s0 = yuyv + (size_t)(2 * y) * (size_t)stride;
		const uint8_t *s1 = s0 + stride;
		uint8_t *u = img->plane[1] + (size_t)y * (size_t)img->stride[1];
		uint8_t *v = img->plane[2] + (size_t)y * (size_t)img->stride[2];

		for (int x = 0; x < w / 2; x++) {
			u[x] = (uint8_t)((s0[4 * x + 1] + s1[4 * x + 1] + 1) /
					 2);
			v[x] = (uint8_t)((s0[4 * x + 3] + s1[4 * x + 3] + 1) /
					 2);
		}
	}
}

static void copy_rows(uint8_t *d, int dstride, const uint8_t *s, int sstride,
		      int w, int h)
{
	for (int y = 0; y < h; y++)
		memcpy(d + (size_t)y * (size_t)dstride,
		       s + (size_t)y * (size_t)sstride, (size_t)w);
}

/* NV12: a Y plane, then one plane of interleaved U V at half size. */
static void nv12_to_i420(const uint8_t *src, int stride, struct hl_image *img)
{
	int w = img->width, h = img->height;
	const uint8_t *uv = src + (size_t)stride * (size_t)h;

	copy_rows(img->plane[0], img->stride[0], src, stride, w, h);
	for (int y = 0; y < h / 2; y++) {
		const uint8_t *s = uv + (size_t)y * (size_t)stride;
		uint8_t *u = img->plane[1] + (size_t)y * (size_t)img->stride[1];
		uint8_t *v = img->plane[2] + (size_t)y * (size_t)img->stride[2];

		for (int x = 0; x < w / 2; x++) {
			u[x] = s[2 * x];
			v[x] = s[2 * x + 1];
		}
	}
}

/* YUV420 (I420): Y, then U, then V, chroma stride half the luma one. */
static void yu12_to_i420(const uint8_t *src, int stride, struct hl_image *img)
{
	int w = img->width, h = img->height, cs = stride / 2;
	const uint8_t *u = src + (size_t)stride * (size_t)h;
	const uint8_t *v = u + (size_t)cs * (size_t)(h / 2);

	copy_rows(img->plane[0], img->stride[0], src, stride, w, h);
	copy_rows(img->plane[1], img->stride[1], u, cs, w / 2, h / 2);
	copy_rows(img->plane[2], img->stride[2], v, cs, w / 2, h / 2);
}

/* Bytes a frame of the format needs in its buffer. */
static size_t frame_bytes(uint32_t fmt, uint32_t bpl, int h)
{
	if (fmt == V4L2_PIX_FMT_YUYV)
		return (size_t)bpl * (size_t)h;
	return (size_t)bpl * (size_t)h * 3 / 2; /* NV12, YUV420 */
}

/* Nearest-neighbour scale of one plane. */
static void scale_plane(const uint8_t *s, int ss, int sw, int sh, uint8_t *d,
			int ds, int dw, int dh)
{
	for (int y = 0; y < dh; y++) {
		const uint8_t *row =
			s + (size_t)((int64_t)y * sh / dh) * (size_t)ss;
		uint8_t *o = d + (size_t)y * (size_t)ds;

		for (int x = 0; x < dw; x++)
			o[x] = row[(int64_t)x * sw / dw];
	}
}

static void scale_i420(const struct hl_image *s, struct hl_image *d)
{
	scale_plane(s->plane[0], s->stride[0], s->width, s->height, d->plane[0],
		    d->stride[0], d->width, d->height);
	for (int p = 1; p < 3; p++)
		scale_plane(s->plane[p], s->stride[p], s->width / 2,
			    s->height / 2, d->plane[p], d->stride[p],
			    d->width / 2, d->height / 2);
}

/* ---- the device ------------------------------------------------------ */

static const char *fourcc(uint32_t f, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char ch = (char)((f >> (8 * i)) & 0xff);

		out[i] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	out[4] = 0;
	return out;
}

/* Try the formats in our order of preference; 0 or a sentence. */
static int set_format(struct hl_camera *c, const char *dev,
		      const char **err_msg)
{
	static const uint32_t pref[] = {V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_NV12,
					V4L2_PIX_FMT_YUV420};
	struct v4l2_format f;
	char got[5] = "none";

	for (size_t i = 0; i < HL_ARRAY_SIZE(pref); i++) {
		memset(&f, 0, sizeof(f));
		f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		f.fmt.pix.width = (uint32_t)c->width;
		f.fmt.pix.height = (uint32_t)c->height;
		f.fmt.pix.pixelformat = pref[i];
		f.fmt.pix.field = V4L2_FIELD_NONE;
		if (xioctl(c->fd, VIDIOC_S_FMT, &f) < 0) {
			if (errno == EBUSY) {
				say(err_msg,
				    "%s is busy (another program is using the "
				    "camera)",
				    dev);
				return HL_EIO;
			}
			continue;
		}
		fourcc(f.fmt.pix.pixelformat, got);
		if (f.fmt.pix.pixelformat == pref[i])
			break;
		f.fmt.pix.pixelformat = 0;
	}
	if (f.fmt.pix.pixelformat == 0) {
		say(err_msg,
		    "%s does not offer YUYV, NV12 or YUV420 (it offers %s; see "
		    "`v4l2-ctl --list-formats-ext`)",
		    dev, got);
		return HL_EUNSUPPORTED;
	}
	c->pixfmt = f.fmt.pix.pixelformat;
	c->dev_w = (int)f.fmt.pix.width;
	c->dev_h = (int)f.fmt.pix.height;
	c->bpl = f.fmt.pix.bytesperline;
	if (c->dev_w < 2 || c->dev_h < 2 || c->dev_w > HL_VIDEO_MAX_DIM ||
	    c->dev_h > HL_VIDEO_MAX_DIM || (c->dev_w & 1) || (c->dev_h & 1)) {
		say(err_msg, "%s offers only %dx%d, which hotline cannot use",
		    dev, c->dev_w, c->dev_h);
		return HL_EUNSUPPORTED;
	}
	if (c->bpl == 0)
		c->bpl = (uint32_t)c->dev_w *
			 (c->pixfmt == V4L2_PIX_FMT_YUYV ? 2 : 1);
	if (c->bpl <
	    (uint32_t)c->dev_w * (c->pixfmt == V4L2_PIX_FMT_YUYV ? 2u : 1u)) {
		say(err_msg, "%s reports an impossible line length (%u bytes)",
		    dev, c->bpl);
		return HL_EUNSUPPORTED;
	}
	return 0;
}

/* Ask for 1/fps per frame; drivers without the capability keep theirs. */
static void set_rate(struct hl_camera *c, int fps)
{
	struct v4l2_streamparm p;

	memset(&p, 0, sizeof(p));
	p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	if (xioctl(c->fd, VIDIOC_G_PARM, &p) < 0 ||
	    !(p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME))
		return;
	p.parm.capture.timeperframe.numerator = 1;
	p.parm.capture.timeperframe.denominator = (uint32_t)fps;
	(void)xioctl(c->fd, VIDIOC_S_PARM, &p);
}

static int map_buffers(struct hl_camera *c, const char *dev,
		       const char **err_msg)
{
	struct v4l2_requestbuffers rb;
	size_t need = frame_bytes(c->pixfmt, c->bpl, c->dev_h);

	memset(&rb, 0, sizeof(rb));
	rb.count = CAM_BUFFERS;
	rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	rb.memory = V4L2_MEMORY_MMAP;
	if (xioctl(c->fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count < 2) {
		say(err_msg, "%s cannot stream through memory-mapped buffers",
		    dev);
		return HL_EUNSUPPORTED;
	}
	for (unsigned i = 0; i < rb.count && i < CAM_BUFFERS; i++) {
		struct v4l2_buffer b;
		void *p;

		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		b.index = i;
		if (xioctl(c->fd, VIDIOC_QUERYBUF, &b) < 0) {
			say(err_msg, "%s: cannot query buffer %u: %s", dev, i,
			    strerror(errno));
			return HL_EIO;
		}
		if (b.length < need) {
			say(err_msg,
			    "%s gives %u-byte buffers for %zu-byte frames", dev,
			    b.length, need);
			return HL_EUNSUPPORTED;
		}
		p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
			 c->fd, b.m.offset);
		if (p == MAP_FAILED) {
			say(err_msg, "%s: cannot map buffer %u: %s", dev, i,
			    strerror(errno));
			return HL_EIO;
		}
		c->buf[i].start = p;
		c->buf[i].length = b.length;
		c->nbuf = i + 1;
	}
	return 0;
}

static int queue(struct hl_camera *c, unsigned index)
{
	struct v4l2_buffer b;

	memset(&b, 0, sizeof(b));
	b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
	b.memory = V4L2_MEMORY_MMAP;
	b.index = index;
	return xioctl(c->fd, VIDIOC_QBUF, &b) < 0 ? HL_EIO : 0;
}

static int start(struct hl_camera *c, const char *dev, const char **err_msg)
{
	enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

	for (unsigned i = 0; i < c->nbuf; i++) {
		if (queue(c, i)) {
			say(err_msg, "%s: cannot queue buffer %u: %s", dev, i,
			    strerror(errno));
			return HL_EIO;
		}
	}
	if (xioctl(c->fd, VIDIOC_STREAMON, &type) < 0) {
		say(err_msg, "%s: cannot start streaming: %s", dev,
		    strerror(errno));
		return HL_EIO;
	}
	c->streaming = true;
	return 0;
}

static int open_device(struct hl_camera *c, const char *dev,
		       const char **err_msg)
{
	struct v4l2_capability cap;
	struct stat st;
	uint32_t caps;

	c->fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c->fd < 0) {
		if (errno == ENOENT)
			say(err_msg,
			    "%s: no such camera (is it plugged in? see "
			    "`v4l2-ctl --list-devices`)",
			    dev);
		else if (errno == EACCES || errno == EPERM)
			say(err_msg,
			    "%s: permission denied (add yourself to the "
			    "'video' group and log in again)",
			    dev);
		else if (errno == EBUSY)
			say(err_msg,
			    "%s is busy (another program is using the camera)",
			    dev);
		else
			say(err_msg, "%s: cannot open: %s", dev,
			    strerror(errno));
		return HL_EIO;
	}
	if (fstat(c->fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		say(err_msg,
		    "%s is not a camera device (a video device such as "
		    "/dev/video0 is needed; see `v4l2-ctl --list-devices`)",
		    dev);
		return HL_EINVAL;
	}
	memset(&cap, 0, sizeof(cap));
	if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap) < 0) {
		say(err_msg,
		    "%s is not a V4L2 video device (see `v4l2-ctl "
		    "--list-devices`)",
		    dev);
		return HL_EINVAL;
	}
	caps = cap.capabilities & V4L2_CAP_DEVICE_CAPS ? cap.device_caps
						       : cap.capabilities;
	if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
		say(err_msg,
		    "%s cannot capture video (it may be a metadata node; try "
		    "the other /dev/video* of the camera)",
		    dev);
		return HL_EUNSUPPORTED;
	}
	if (!(caps & V4L2_CAP_STREAMING)) {
		say(err_msg, "%s does not support streaming I/O", dev);
		return HL_EUNSUPPORTED;
	}
	return 0;
}

int hl_camera_open(struct hl_camera **out, const char *dev, int width,
		   int height, int fps, const char **err_msg)
{
	struct hl_camera *c;
	int err;

	if (!out || !dev || width < 2 || height < 2 ||
	    width > HL_VIDEO_MAX_DIM || height > HL_VIDEO_MAX_DIM ||
	    (width & 1) || (height & 1) || fps < 1 || fps > 240) {
		say(err_msg, "invalid camera settings (%dx%d at %d fps)", width,
		    height, fps);
		return HL_EINVAL;
	}
	c = hl_calloc(1, sizeof(*c));
	if (!c) {
		say(err_msg, "out of memory");
		return HL_ENOMEM;
	}
	c->width = width;
	c->height = height;
	err = open_device(c, dev, err_msg);
	if (!err)
		err = set_format(c, dev, err_msg);
	if (!err && (c->dev_w != width || c->dev_h != height)) {
		err = hl_image_new(&c->dev_img, c->dev_w, c->dev_h);
		if (err)
			say(err_msg, "out of memory");
	}
	if (!err) {
		set_rate(c, fps);
		err = map_buffers(c, dev, err_msg);
	}
	if (!err)
		err = start(c, dev, err_msg);
	if (err) {
		hl_camera_close(c);
		return err;
	}
	*out = c;
	return 0;
}

void hl_camera_close(struct hl_camera *c)
{
	if (!c)
		return;
	if (c->streaming) {
		enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;

		(void)xioctl(c->fd, VIDIOC_STREAMOFF, &type);
	}
	for (unsigned i = 0; i < c->nbuf; i++)
		munmap(c->buf[i].start, c->buf[i].length);
	if (c->fd >= 0)
		close(c->fd);
	hl_image_free(c->dev_img);
	hl_free(c);
}

int hl_camera_fd(const struct hl_camera *c)
{
	return c->fd;
}

static void convert(const struct hl_camera *c, const uint8_t *p,
		    struct hl_image *img)
{
	if (c->pixfmt == V4L2_PIX_FMT_YUYV)
		hl_yuyv_to_i420(p, (int)c->bpl, img);
	else if (c->pixfmt == V4L2_PIX_FMT_NV12)
		nv12_to_i420(p, (int)c->bpl, img);
	else
		yu12_to_i420(p, (int)c->bpl, img);
}

int hl_camera_read(struct hl_camera *c, struct hl_image *img)
{
	struct v4l2_buffer b, newest;
	bool have = false;
	size_t used;
	int err = 0;

	memset(&newest, 0, sizeof(newest));
	if (img->width != c->width || img->height != c->height)
		return HL_EINVAL;
	/* Drain the queue; every frame but the newest goes back at once. */
	for (;;) {
		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		if (xioctl(c->fd, VIDIOC_DQBUF, &b) < 0) {
			if (errno != EAGAIN)
				err = HL_EIO;
			break;
		}
		if (b.index >= c->nbuf) {
			err = HL_EIO;
			break;
		}
		if (have && queue(c, newest.index)) {
			err = HL_EIO;
			break;
		}
		newest = b;
		have = true;
	}
	if (!have)
		return err ? err : HL_EAGAIN;
	/* Some drivers leave bytesused 0 for raw formats: a full buffer. */
	used = newest.bytesused ? newest.bytesused : newest.length;
	if (!(newest.flags & V4L2_BUF_FLAG_ERROR) &&
	    used >= frame_bytes(c->pixfmt, c->bpl, c->dev_h) &&
	    used <= c->buf[newest.index].length) {
		const uint8_t *p = c->buf[newest.index].start;

		if (c->dev_img) {
			convert(c, p, c->dev_img);
			scale_i420(c->dev_img, img);
		} else {
			convert(c, p, img);
		}
	} else if (!err) {
		err = HL_EAGAIN; /* a damaged or short frame: skip it */
	}
	if (queue(c, newest.index))
		err = HL_EIO;
	return err;
}

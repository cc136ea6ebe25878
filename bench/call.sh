#!/bin/sh
# One-way 720p30 call (alice sends, bob receives), side by side in one run:
#   - the codec floor: libvpx + libopus alone on the same pictures and tone
#     frames at the same settings (bench/codec_floor, paced in real time);
#   - hotline's own one-way call (hotline_oneway below);
#   - GStreamer 1.22, plain RTP over UDP (bench/gst_call --transport rtp);
#   - GStreamer 1.22 webrtcbin, ICE + DTLS-SRTP (gst_call --transport webrtc);
#   - a gst-launch-1.0 plain RTP pair with videotestsrc (a cross-check of
#     gst_call's figures with GStreamer's own tools and source).
# Prints CPU seconds of each side, the ratio to the codec floor,
# glass-to-glass latency p50/p95 and call setup time as a markdown table.
# All traffic stays on 127.0.0.1.
#
# Usage: bench/call.sh BUILD_DIR
# Environment: CALL_SECONDS (default 30), CALL_PORT (default 47000: UDP
# ports CALL_PORT..CALL_PORT+3 and +10..+13), CALL_NO_INSTALL=1 to never
# run apt-get.
set -eu
build=${1:-build}
secs=${CALL_SECONDS:-30}
port=${CALL_PORT:-47000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ---- the Debian packages this needs (GStreamer 1.22 on Debian 12) ----------
pkgs="gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
gstreamer1.0-plugins-bad gstreamer1.0-nice libgstreamer1.0-dev
libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev libnice-dev
time"

have_gst() {
	command -v gst-launch-1.0 >/dev/null 2>&1 &&
		[ -x /usr/bin/time ] &&
		pkg-config --exists gstreamer-webrtc-nice-1.0 gstreamer-app-1.0 \
			gstreamer-video-1.0 gstreamer-sdp-1.0 2>/dev/null &&
		gst-inspect-1.0 webrtcbin >/dev/null 2>&1 &&
		gst-inspect-1.0 nicesrc >/dev/null 2>&1 &&
		gst-inspect-1.0 vp8enc >/dev/null 2>&1 &&
		gst-inspect-1.0 opusenc >/dev/null 2>&1
}

if ! have_gst; then
	if [ "${CALL_NO_INSTALL:-0}" = 1 ] || [ "$(id -u)" != 0 ]; then
		echo "call.sh: GStreamer packages missing; as root run:" >&2
		echo "  apt-get install -y" $pkgs >&2
		exit 1
	fi
	echo "== installing GStreamer 1.22 from Debian's packages"
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends $pkgs >/dev/null
	have_gst || {
		echo "call.sh: GStreamer still incomplete after apt-get" >&2
		exit 1
	}
fi

# ---- the programs (gst_call is built only where GStreamer's -dev files are) -
if ! ninja -C "$build" bench/codec_floor bench/gst_call >"$tmp/ninja" 2>&1; then
	meson setup --reconfigure "$build" >"$tmp/meson" 2>&1 || {
		cat "$tmp/meson" >&2
		exit 1
	}
	ninja -C "$build" bench/codec_floor bench/gst_call >"$tmp/ninja" 2>&1 || {
		tail -n 30 "$tmp/ninja" >&2
		exit 1
	}
fi

# jget FILE KEY: a number (or string) from a one-line JSON object
jget() {
	sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"
}

# ---- hotline's own one-way call ---------------------------------------------
# hotline_oneway BUILD_DIR: run a one-way CALL_SECONDS call between two
# `hotline join` processes on 127.0.0.1 (alice sends the test pattern and
# tone, bob receives) and print one line:
#   send_cpu_s recv_cpu_s g2g_p50_ms g2g_p95_ms setup_ms
# (setup: from `join` to bob's first rendered picture).  Print nothing or
# return non-zero while it cannot run; the row then reads "pending".
# >>> TO BE FILLED IN with the real call (hotline join) <<<
hotline_oneway() {
	return 1
}

# ---- the runs -----------------------------------------------------------------
echo "== one-way ${secs} s 720p30 call, VP8 1500 kbit/s + Opus 32 kbit/s, 127.0.0.1"

echo "-- codec floor (send and receive side at once, paced in real time)"
"$build/bench/codec_floor" --side send --seconds "$secs" >"$tmp/fs" &
fs_pid=$!
"$build/bench/codec_floor" --side recv --seconds "$secs" >"$tmp/fr" &
fr_pid=$!
wait "$fs_pid"
wait "$fr_pid"
cat "$tmp/fs" "$tmp/fr"

echo "-- hotline"
if hotline_oneway "$build" >"$tmp/hl" 2>"$tmp/hl.err" && [ -s "$tmp/hl" ]; then
	cat "$tmp/hl"
else
	echo "pending (hotline_oneway in bench/call.sh)"
	: >"$tmp/hl"
fi

echo "-- GStreamer plain RTP (gst_call)"
"$build/bench/gst_call" --transport rtp --seconds "$secs" --port "$port" \
	>"$tmp/gr" 2>"$tmp/gr.err" || cat "$tmp/gr.err" >&2
cat "$tmp/gr"

echo "-- GStreamer webrtcbin (gst_call)"
"$build/bench/gst_call" --transport webrtc --seconds "$secs" \
	>"$tmp/gw" 2>"$tmp/gw.err" || cat "$tmp/gw.err" >&2
cat "$tmp/gw"

echo "-- GStreamer plain RTP with gst-launch-1.0 and videotestsrc (cross-check)"
vp=$((port + 10))
ap=$((port + 12))
# The encoder line is spelled out here too, so that call.sh runs from any
# directory: keep it equal to VENC in gst_call.c.
venc="vp8enc deadline=1 cpu-used=-6 threads=1 target-bitrate=1500000
end-usage=cbr error-resilient=default static-threshold=1 noise-sensitivity=0
token-partitions=1 max-intra-bitrate=900 min-quantizer=2 max-quantizer=63
undershoot=100 overshoot=15 buffer-initial-size=1000 buffer-optimal-size=600
buffer-size=1000 keyframe-mode=auto keyframe-max-dist=3000
dropframe-threshold=0 lag-in-frames=0 resize-allowed=false"
aenc="opusenc bitrate=32000 audio-type=voice bitrate-type=vbr complexity=9
frame-size=20 inband-fec=true packet-loss-percentage=10"
vcaps="application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"
acaps="application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000"
# shellcheck disable=SC2086
/usr/bin/time -f "%U %S" -o "$tmp/lr.time" gst-launch-1.0 -q \
	udpsrc address=127.0.0.1 port=$vp caps="$vcaps" ! \
	rtpjitterbuffer latency=200 ! rtpvp8depay ! vp8dec threads=1 ! \
	fakesink sync=true \
	udpsrc address=127.0.0.1 port=$ap caps="$acaps" ! \
	rtpjitterbuffer latency=200 ! rtpopusdepay ! \
	opusdec use-inband-fec=true ! fakesink sync=true >/dev/null 2>&1 &
lr_pid=$!
sleep 1
# shellcheck disable=SC2086
/usr/bin/time -f "%U %S" -o "$tmp/ls.time" gst-launch-1.0 -q \
	videotestsrc is-live=true pattern=smpte horizontal-speed=4 \
	num-buffers=$((secs * 30)) ! \
	video/x-raw,format=I420,width=1280,height=720,framerate=30/1 ! \
	$venc ! rtpvp8pay pt=96 mtu=1200 picture-id-mode=15-bit ! \
	udpsink host=127.0.0.1 port=$vp \
	audiotestsrc is-live=true wave=sine freq=1000 \
	num-buffers=$((secs * 50)) samplesperbuffer=960 ! \
	audio/x-raw,format=S16LE,rate=48000,channels=1 ! \
	$aenc ! rtpopuspay pt=111 mtu=1200 ! udpsink host=127.0.0.1 port=$ap \
	>/dev/null 2>&1 || echo "call.sh: the gst-launch sender failed" >&2
sleep 1
# The receiver never sees an end of stream over plain RTP: end it (our own
# gst-launch-1.0, the child of our /usr/bin/time, by PID); time still
# reports its CPU time.
lr_child=$(ps -o pid= --ppid "$lr_pid" | tr -d ' ')
[ -n "$lr_child" ] && kill -TERM "$lr_child" 2>/dev/null
wait "$lr_pid" 2>/dev/null || true
cpu_of() { tail -n 1 "$1" 2>/dev/null | awk '{ printf "%.3f", $1 + $2 }'; }
ls_cpu=$(cpu_of "$tmp/ls.time")
lr_cpu=$(cpu_of "$tmp/lr.time")
echo "sender $ls_cpu s, receiver $lr_cpu s"

# ---- the table ----------------------------------------------------------------
fsend=$(jget "$tmp/fs" cpu_s)
frecv=$(jget "$tmp/fr" cpu_s)
row() { # name send recv p50 p95 setup
	awk -v n="$1" -v s="$2" -v r="$3" -v p50="$4" -v p95="$5" \
		-v su="$6" -v fs="$fsend" -v fr="$frecv" 'BEGIN {
		if (s == "") { printf "| %s | pending | | | | | |\n", n; exit }
		rs = (fs > 0) ? sprintf("%.2f", s / fs) : "-"
		rr = (fr > 0) ? sprintf("%.2f", r / fr) : "-"
		printf "| %s | %.2f | %.2f | %s / %s | %s / %s | %s |\n",
			n, s, r, rs, rr, (p50 == "" ? "-" : p50),
			(p95 == "" ? "-" : p95), (su == "" ? "-" : su)
	}'
}
echo
echo "| one-way ${secs} s 720p30 | send CPU s | recv CPU s | ratio to floor (send / recv) | g2g p50 / p95 ms | setup ms |"
echo "|---|---|---|---|---|---|"
row "codec floor (libvpx + libopus)" "$fsend" "$frecv" "" "" ""
if [ -s "$tmp/hl" ]; then
	# shellcheck disable=SC2046
	set -- $(cat "$tmp/hl")
	row "hotline" "$1" "$2" "$3" "$4" "$5"
else
	row "hotline" "" "" "" "" ""
fi
for t in gr:"GStreamer plain RTP" gw:"GStreamer webrtcbin"; do
	f=$tmp/${t%%:*}
	if [ -s "$f" ]; then
		row "${t#*:}" "$(jget "$f" send_cpu_s)" "$(jget "$f" recv_cpu_s)" \
			"$(jget "$f" g2g_p50_ms)" "$(jget "$f" g2g_p95_ms)" \
			"$(jget "$f" setup_ms)"
	else
		row "${t#*:}" "" "" "" "" ""
	fi
done
row "gst-launch RTP, videotestsrc (cross-check)" "$ls_cpu" "$lr_cpu" "" "" ""

#!/bin/sh
# One-way 720p30 call (alice sends, bob receives), side by side in one run:
#   - the codec floor: libvpx + libopus alone on the same pictures and tone
#     frames at the same settings (bench/codec_floor, paced in real time),
#     and once more with the receiver also running join's meters (stamps,
#     PSNR, tone marks), to show what measuring costs;
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
# Environment: CALL_SECONDS (default 30); CALL_RUNS (default 1; with more,
# each run does every row and the table gives medians); CALL_PORT (default
# 47000: UDP ports CALL_PORT..+3 and +10..+13); CALL_NO_INSTALL=1 never
# runs apt-get.
set -eu
build=${1:-build}
secs=${CALL_SECONDS:-30}
runs=${CALL_RUNS:-1}
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
#   send_cpu_s recv_cpu_s g2g_p50_ms g2g_p95_ms setup_ms send_call recv_call
# (setup: from `join` to bob's first rendered picture; the last two: CPU
# from the moment the call is secure, as the floor counts its own).  Print nothing or
# return non-zero while it cannot run; the row then reads "pending".
# (bench/hotline_oneway.sh does it: hotlined, identities, a contract.)
hotline_oneway() {
	"$(dirname "$0")/hotline_oneway.sh" "$1" "$secs"
}

# ---- the runs -----------------------------------------------------------------
# Each run appends one line "send_cpu recv_cpu g2g_p50 g2g_p95 setup_ms"
# (hotline's adds "send_call recv_call"; a "-" where there is no figure)
# to $tmp/KIND for the kinds floor,
# floorm (the floor whose receiver also runs the meters that `join` runs on
# what it receives: stamps, PSNR on every 30th picture, the tone's marks),
# hotline, rtp, webrtc, launch.

run_floor() { # KIND [--meters]
	"$build/bench/codec_floor" --side send --seconds "$secs" >"$tmp/fs" &
	fs_pid=$!
	# shellcheck disable=SC2086
	"$build/bench/codec_floor" --side recv --seconds "$secs" ${2:-} \
		>"$tmp/fr" &
	fr_pid=$!
	wait "$fs_pid"
	wait "$fr_pid"
	cat "$tmp/fs" "$tmp/fr"
	echo "$(jget "$tmp/fs" cpu_s) $(jget "$tmp/fr" cpu_s) - - -" >>"$tmp/$1"
}

run_hotline() {
	if hotline_oneway "$build" >"$tmp/hl" 2>"$tmp/hl.err" &&
		[ -s "$tmp/hl" ]; then
		cat "$tmp/hl"
		head -n 1 "$tmp/hl" >>"$tmp/hotline"
	else
		echo "pending (hotline_oneway in bench/call.sh)"
	fi
}

run_gst() { # rtp|webrtc
	if "$build/bench/gst_call" --transport "$1" --seconds "$secs" \
		--port "$port" >"$tmp/g" 2>"$tmp/g.err"; then
		cat "$tmp/g"
		echo "$(jget "$tmp/g" send_cpu_s) $(jget "$tmp/g" recv_cpu_s)" \
			"$(jget "$tmp/g" g2g_p50_ms) $(jget "$tmp/g" g2g_p95_ms)" \
			"$(jget "$tmp/g" setup_ms)" >>"$tmp/$1"
	else
		tail -n 5 "$tmp/g.err" >&2
	fi
}

# gst-launch-1.0's own plain RTP pair with videotestsrc (moving SMPTE bars)
# and audiotestsrc, CPU from /usr/bin/time.  The encoder settings are those
# of VENC and AENC in gst_call.c: keep them equal.
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

run_launch() {
	vp=$((port + 10))
	ap=$((port + 12))
	rm -f "$tmp/lr.time" "$tmp/ls.time"
	# shellcheck disable=SC2086
	/usr/bin/time -f "%U %S" -o "$tmp/lr.time" gst-launch-1.0 -q \
		udpsrc address=127.0.0.1 port=$vp caps="$vcaps" ! \
		rtpjitterbuffer latency=200 ! rtpvp8depay ! \
		vp8dec threads=1 ! fakesink sync=true \
		udpsrc address=127.0.0.1 port=$ap caps="$acaps" ! \
		rtpjitterbuffer latency=200 ! rtpopusdepay ! \
		opusdec use-inband-fec=true ! fakesink sync=true \
		>/dev/null 2>&1 &
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
		$aenc ! rtpopuspay pt=111 mtu=1200 ! \
		udpsink host=127.0.0.1 port=$ap >/dev/null 2>&1 ||
		echo "call.sh: the gst-launch sender failed" >&2
	sleep 1
	# Plain RTP carries no end of stream: end the receiver (our own
	# gst-launch-1.0, the child of our /usr/bin/time, by PID); time still
	# reports its CPU time.
	lr_child=$(ps -o pid= --ppid "$lr_pid" | tr -d ' ')
	if [ -n "$lr_child" ]; then
		kill -TERM "$lr_child" 2>/dev/null || true
	fi
	wait "$lr_pid" 2>/dev/null || true
	ls_cpu=$(tail -n 1 "$tmp/ls.time" 2>/dev/null | awk '{ print $1 + $2 }')
	lr_cpu=$(tail -n 1 "$tmp/lr.time" 2>/dev/null | awk '{ print $1 + $2 }')
	echo "sender ${ls_cpu:-?} s, receiver ${lr_cpu:-?} s"
	if [ -n "$ls_cpu" ] && [ -n "$lr_cpu" ]; then
		echo "$ls_cpu $lr_cpu - - -" >>"$tmp/launch"
	fi
}

echo "== one-way ${secs} s 720p30 call, VP8 1500 kbit/s + Opus 32 kbit/s," \
	"127.0.0.1, $runs run(s)"
r=1
while [ "$r" -le "$runs" ]; do
	echo "-- run $r: codec floor (both sides at once, paced in real time)"
	run_floor floor
	echo "-- run $r: codec floor, the receiver also running join's meters"
	run_floor floorm --meters
	echo "-- run $r: hotline"
	run_hotline
	echo "-- run $r: GStreamer plain RTP (gst_call)"
	run_gst rtp
	echo "-- run $r: GStreamer webrtcbin (gst_call)"
	run_gst webrtc
	echo "-- run $r: gst-launch-1.0 plain RTP, videotestsrc (cross-check)"
	run_launch
	r=$((r + 1))
done

# ---- the table (medians over the runs) --------------------------------------
# med KIND COLUMN: the median of one column of a kind's lines, or empty
med() {
	[ -s "$tmp/$1" ] || return 0
	awk -v c="$2" '$c != "-" { print $c }' "$tmp/$1" | sort -g |
		awk '{ v[NR] = $1 } END {
			if (NR == 0) exit
			if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
fsend=$(med floor 1)
frecv=$(med floor 2)
row() { # KIND "name"
	awk -v n="$2" -v s="$(med "$1" 1)" -v r="$(med "$1" 2)" \
		-v p50="$(med "$1" 3)" -v p95="$(med "$1" 4)" \
		-v su="$(med "$1" 5)" -v fs="$fsend" -v fr="$frecv" 'BEGIN {
		if (s == "") { printf "| %s | pending | | | | |\n", n; exit }
		rs = (fs > 0) ? sprintf("%.2f", s / fs) : "-"
		rr = (fr > 0) ? sprintf("%.2f", r / fr) : "-"
		g = (p50 == "") ? "-" : sprintf("%.1f / %.1f", p50, p95)
		printf "| %s | %.2f | %.2f | %s / %s | %s | %s |\n",
			n, s, r, rs, rr, g,
			(su == "") ? "-" : sprintf("%.0f", su)
	}'
}
echo
echo "| one-way ${secs} s 720p30, median of $runs | send CPU s | recv CPU s |" \
	"ratio to floor (send / recv) | g2g p50 / p95 ms | setup ms |"
echo "|---|---|---|---|---|---|"
row floor "codec floor (libvpx + libopus alone)"
row floorm "codec floor, receiver with join's meters"
row hotline "hotline"
row rtp "GStreamer plain RTP"
row webrtc "GStreamer webrtcbin"
row launch "gst-launch RTP, videotestsrc (cross-check)"
# hotline counted like the floor: only from the moment the call is secure
# (the floor's figure leaves out its start-up and its preparation too)
hs=$(med hotline 6)
hr=$(med hotline 7)
if [ -n "$hs" ] && [ -n "$hr" ] && [ -n "$fsend" ] && [ -n "$frecv" ]; then
	awk -v s="$hs" -v r="$hr" -v fs="$fsend" -v fr="$frecv" \
		-v fm="$(med floorm 2)" 'BEGIN {
		printf "\nhotline from the moment the call is secure to its end "
		printf "(start-up, key exchange, ICE and DTLS left out, as the "
		printf "floor leaves out its own): send %.2f s, recv %.2f s, ", s, r
		printf "ratio to the floor %.2f / %.2f", s / fs, r / fr
		if (fm > 0)
			printf "; recv against the floor with the meters %.2f",
				r / fm
		printf "\n"
	}'
fi

#!/usr/bin/python3
"""A real RTSP server for lmx's end-to-end pull tests: GStreamer's
gst-rtsp-server serving a live 320x240 H.264 test pattern (optionally with
an audio track) at rtsp://USER:PASSWORD@127.0.0.1:PORT/test, with basic
auth. It prints "ready" once it listens and serves until killed.

    rtsp_server.py PORT USER PASSWORD [--audio aac|alaw|none] [--gop FRAMES]
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port")
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--audio", default="none", choices=["none", "aac", "alaw"])
    ap.add_argument("--gop", type=int, default=25, help="keyframe interval in frames (25 fps)")
    ap.add_argument("--codec", default="h264", choices=["h264", "h265"])
    a = ap.parse_args()

    Gst.init(None)
    if a.codec == "h264":
        video = ("x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=300 "
                 "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1" % a.gop)
    else:
        video = ("x265enc tune=zerolatency speed-preset=ultrafast key-int-max=%d bitrate=300 "
                 "! rtph265pay name=pay0 pt=96 config-interval=1" % a.gop)
    launch = ("( videotestsrc is-live=true pattern=ball "
              "! video/x-raw,width=320,height=240,framerate=25/1 ! %s" % video)
    if a.audio == "aac":
        launch += (" audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=44100,channels=1 "
                   "! avenc_aac ! rtpmp4gpay name=pay1 pt=97")
    elif a.audio == "alaw":
        launch += (" audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 "
                   "! alawenc ! rtppcmapay name=pay1 pt=8")
    launch += " )"

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(a.port)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)

    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, a.user)
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(a.user, a.password), token)
    server.set_auth(auth)

    perms = GstRtspServer.RTSPPermissions()
    perms.add_role_from_structure(Gst.Structure.new_from_string(
        "%s, media.factory.access=(boolean)true, media.factory.construct=(boolean)true" % a.user))
    factory.set_permissions(perms)

    server.get_mount_points().add_factory("/test", factory)
    if server.attach(None) == 0:
        print("could not listen on port %s" % a.port, file=sys.stderr, flush=True)
        sys.exit(1)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()

//go:build !linux

package vod

import (
	"errors"
	"net"
)

const corkWorks = false

func setCork(*net.TCPConn, bool) error { return errors.New("TCP_CORK is Linux only") }

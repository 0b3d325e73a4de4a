package net_test

import "net"

type tcpAddr = net.TCPAddr

type netListen struct{}

func (netListen) listen() (net.Listener, error) { return net.Listen("tcp4", "0.0.0.0:0") }

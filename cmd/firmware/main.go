//go:build linux && arm64

package main

import (
	"fmt"
	"runtime"
	"time"

	_ "github.com/inferpi/inferpi/metal/kernel"
)

func main() {
	fmt.Println("hello from Go main on bare metal, GOMAXPROCS", runtime.GOMAXPROCS(0))
	t0 := time.Now()
	time.Sleep(100 * time.Millisecond)
	fmt.Println("slept", time.Since(t0))
	done := make(chan int)
	for i := 0; i < 4; i++ {
		go func(i int) {
			s := 0
			for j := 0; j < 10000000; j++ {
				s += j ^ i
			}
			done <- s
		}(i)
	}
	for i := 0; i < 4; i++ {
		fmt.Println("result", <-done)
	}
	runtime.GC()
	fmt.Println("GC ok")
	var p *int
	func() {
		defer func() { fmt.Println("recovered:", recover()) }()
		fmt.Println(*p)
	}()
	select {}
}

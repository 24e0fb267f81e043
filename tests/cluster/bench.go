package main

func runBench(args []string) { fail("not yet") }

module github.com/inferpi/inferpi

go 1.26

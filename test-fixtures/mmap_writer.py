"""Writes single bytes into a file through one shared memory map it keeps open.

Usage: python3 mmap_writer.py FILE, then one command per line on stdin:
``write OFFSET BYTE`` (answers ``written``) or ``exit``. Prints ``ready``
once the map exists.

On Linux a write through a shared map moves the file's mtime and ctime only
when it dirties a clean page (the write fault); later writes to a page that
is still dirty change the bytes and no time, until the kernel writes the
page back. numpy.memmap writes this way. The map is never flushed (msync
would write the page back and make the next write move the times again).
"""

import mmap
import sys

with open(sys.argv[1], "r+b") as f:
    view = mmap.mmap(f.fileno(), 0)  # MAP_SHARED, read and write
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "write":
            view[int(command[1])] = int(command[2])
            print("written", flush=True)
        elif command[0] == "exit":
            break
    view.close()

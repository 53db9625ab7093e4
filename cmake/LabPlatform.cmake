# LabPlatform.cmake - system libraries the allocator needs, found at
# configure time so that a missing one is named there, not in a link error.

include_guard(GLOBAL)

# lab_threads_require()
# Threads::Threads, or a fatal error that says what is missing.
macro(lab_threads_require)
	set(THREADS_PREFER_PTHREAD_FLAG ON)
	find_package(Threads)
	if(NOT Threads_FOUND OR NOT CMAKE_USE_PTHREADS_INIT)
		message(FATAL_ERROR
			"labyrinth: POSIX threads not found for ${CMAKE_C_COMPILER}.\n"
			"Install the C library headers: apt-get install libc6-dev")
	endif()
endmacro()

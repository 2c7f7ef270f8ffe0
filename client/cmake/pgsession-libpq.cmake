# Finds libpq and defines the imported target pgsession::libpq.  Used by the build and
# by the installed pgsession-config.cmake, so consumers find libpq the same way.
# pg_config (when on the PATH) points at the PostgreSQL installation; PostgreSQL_ROOT
# or CMAKE_PREFIX_PATH may point elsewhere.
if(NOT TARGET pgsession::libpq)
    find_program(PGSESSION_PG_CONFIG pg_config)
    if(PGSESSION_PG_CONFIG)
        execute_process(COMMAND "${PGSESSION_PG_CONFIG}" --includedir
                        OUTPUT_VARIABLE _pgsession_pq_incdir OUTPUT_STRIP_TRAILING_WHITESPACE)
        execute_process(COMMAND "${PGSESSION_PG_CONFIG}" --libdir
                        OUTPUT_VARIABLE _pgsession_pq_libdir OUTPUT_STRIP_TRAILING_WHITESPACE)
    endif()
    find_path(PGSESSION_LIBPQ_INCLUDE_DIR libpq-fe.h
              HINTS "${_pgsession_pq_incdir}" PATH_SUFFIXES postgresql pgsql)
    find_library(PGSESSION_LIBPQ_LIBRARY NAMES pq libpq HINTS "${_pgsession_pq_libdir}")
    if(PGSESSION_LIBPQ_INCLUDE_DIR AND PGSESSION_LIBPQ_LIBRARY)
        add_library(pgsession::libpq UNKNOWN IMPORTED)
        set_target_properties(pgsession::libpq PROPERTIES
            IMPORTED_LOCATION "${PGSESSION_LIBPQ_LIBRARY}"
            INTERFACE_INCLUDE_DIRECTORIES "${PGSESSION_LIBPQ_INCLUDE_DIR}")
    endif()
endif()

// The one translation unit that compiles Asio, Asio SSL and Beast (separate compilation): every
// other file that uses them sees only declarations, so touching a handler rebuilds in seconds.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

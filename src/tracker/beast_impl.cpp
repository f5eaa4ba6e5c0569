// The one translation unit that compiles Beast's implementation and Asio's SSL
// implementation (BOOST_BEAST_SEPARATE_COMPILATION / BOOST_ASIO_SEPARATE_COMPILATION): each
// costs ~30 s per TU on two cores, so nothing else includes their sources.
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

/* A delegate that does nothing but read its configuration and answer a fixed 1.0.0 result: timing our plugin
 * with it isolates the plugin's own cost from the bridge plugin's (whose run time varies far more). */
#include <string.h>
#include <unistd.h>

int main(void)
{
    char buffer[4096];
    while (read(0, buffer, sizeof buffer) > 0) {
    }
    const char *result = "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.30.2/24\",\"gateway\":\"198.18.30.1\"}],\"dns\":{}}\n";
    return write(1, result, strlen(result)) < 0;
}

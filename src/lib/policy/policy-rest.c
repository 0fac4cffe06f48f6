/* SPDX-License-Identifier: Apache-2.0 */
/* Blocking REST calls (see policy-rest.h): one curl easy handle per call,
 * the response collected into a vf_buf capped at REST_MAX_RESPONSE. */
#include "policy/policy-rest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "util/buf.h"

#define REST_MAX_RESPONSE (256u << 20)

static size_t
collect(char *data, size_t size, size_t n, void *b_)
{
    struct vf_buf *b = b_;
    if (b->len + size * n > REST_MAX_RESPONSE) {
        return 0;
    }
    vf_buf_put(b, data, size * n);
    return size * n;
}

int
policy_rest_call(const char *base_url, const char *token, const char *method,
                 const char *path, const char *body, long timeout_ms,
                 struct policy_rest_reply *reply, char **errp)
{
    memset(reply, 0, sizeof *reply);
    CURL *curl = curl_easy_init();
    if (!curl) {
        *errp = vf_xstrdup("cannot initialise libcurl");
        return -ENOMEM;
    }
    struct vf_buf url = VF_BUF_INITIALIZER, resp = VF_BUF_INITIALIZER;
    vf_buf_printf(&url, "%s%s", base_url, path);
    struct curl_slist *headers = NULL;
    if (token) {
        char *auth = vf_xasprintf("Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, auth);
        free(auth);
    }
    if (body) {
        headers = curl_slist_append(headers,
                                    "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, vf_buf_cstr(&url));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(curl);
    int error = 0;
    if (rc != CURLE_OK) {
        error = rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
                : rc == CURLE_COULDNT_CONNECT  ? -ECONNREFUSED
                                               : -EIO;
        *errp = vf_xasprintf("%s: %s", vf_buf_cstr(&url),
                             errbuf[0] ? errbuf : curl_easy_strerror(rc));
        vf_buf_uninit(&resp);
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
        reply->body_size = resp.len;
        reply->body = vf_buf_steal(&resp);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    vf_buf_uninit(&url);
    return error;
}

void
policy_rest_reply_uninit(struct policy_rest_reply *reply)
{
    free(reply->body);
    reply->body = NULL;
}

char *
policy_rest_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy = vf_xstrdup(e ? e : "");
    curl_free(e);
    return copy;
}
